// A CustomResourceDefinition is validated as apiextensions-apiserver does before it is stored;
// the rules themselves live with the schema code. Defaults were filled by the kind's normalize step.
import type { CustomResourceDefinition, KubeObject } from '../../api/meta.ts';
import type { FieldError } from '../errors.ts';
import { validateCustomResourceDefinition } from '../schema/crd-validation.ts';

export function validateCrdObject(obj: KubeObject): FieldError[] {
  return validateCustomResourceDefinition(obj as CustomResourceDefinition);
}
