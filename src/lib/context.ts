// The worker's view of its environment (lib.md §1): Sedna's `Context.get_parameters` lookup rule,
// `get_algorithm_from_api`, and a typed snapshot of every variable the library reads, with Sedna's
// names and defaults. Stricter than Sedna in two places, on purpose: a number that is not numeric
// and an `<ALGO>_PARAMETERS` value that is not JSON throw a `ConfigError` naming the variable
// (Sedna crashed later with a bare ValueError, or silently ignored the parameters).
import { tmpdir } from 'node:os';

export type Env = Readonly<Record<string, string | undefined>>;

/** A configuration value the worker cannot use; the message names the variable or parameter. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** An algorithm chosen in a resource: `{method: <ALGO>_NAME, param: <ALGO>_PARAMETERS as a map}`. */
export interface AlgorithmConfig {
  method: string;
  param: Record<string, string>;
}

/** Looks `name` up, then `name.toUpperCase()`; unset or empty yields `fallback` (as Sedna). */
export function getParameter(name: string, fallback?: string, env: Env = process.env): string | undefined {
  // `os.getenv(name, os.getenv(NAME))`: a set-but-empty `name` does not fall through to NAME.
  const value = env[name] ?? env[name.toUpperCase()];
  return value ? value : fallback;
}

/** `{ALGO}_NAME` and `{ALGO}_PARAMETERS` as an algorithm config, `overrides` winning; no name → undefined. */
export function algorithmFromEnv(algorithm: string, overrides: Record<string, string> = {}, env: Env = process.env): AlgorithmConfig | undefined {
  const method = getParameter(`${algorithm}_NAME`, undefined, env);
  if (!method) return undefined;
  const variable = `${algorithm}_PARAMETERS`;
  const param = parseKeyValueList(variable, getParameter(variable, undefined, env));
  return { method, param: { ...param, ...overrides } };
}

function parseKeyValueList(variable: string, raw: string | undefined): Record<string, string> {
  if (raw === undefined) return {};
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(`${variable} is not valid JSON (${(err as Error).message}); expected a list of {"key","value"} objects`);
  }
  // JSON null is what Sedna's GM writes for no parameters (json.loads gives None: no parameters).
  if (list === null) return {};
  if (!Array.isArray(list)) throw new ConfigError(`${variable} must be a JSON list of {"key","value"} objects`);
  const param: Record<string, string> = {};
  for (const entry of list as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { key, value } = entry as { key?: unknown; value?: unknown };
    if (key === undefined || key === null || key === '') continue;
    param[asText(key)] = value === undefined || value === null ? '' : asText(value);
  }
  return param;
}

/** Values should be strings; a number or object from a hand-written list is kept as its JSON text. */
function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** What a numeric parameter must be, beyond a finite number. */
export interface NumberRule {
  integer?: boolean;
  /** Inclusive lower bound. */
  min?: number;
  /** Strictly greater than zero. */
  positive?: boolean;
}

/** A numeric parameter found as getParameter finds it; unset → undefined; malformed → ConfigError naming it. */
export function optionalNumberParameter(name: string, env: Env = process.env, rule: NumberRule = {}): number | undefined {
  const raw = getParameter(name, undefined, env);
  if (raw === undefined) return undefined;
  const value = Number(raw.trim());
  const what = rule.integer ? 'an integer' : 'a number';
  if (raw.trim() === '' || !Number.isFinite(value)) throw new ConfigError(`${name} must be ${what}, got ${JSON.stringify(raw)}`);
  if (rule.integer && !Number.isInteger(value)) throw new ConfigError(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  if (rule.min !== undefined && value < rule.min) throw new ConfigError(`${name} must be ${what} ≥ ${rule.min}, got ${JSON.stringify(raw)}`);
  if (rule.positive && value <= 0) throw new ConfigError(`${name} must be ${what} > 0, got ${JSON.stringify(raw)}`);
  return value;
}

/** optionalNumberParameter with a default for an unset parameter. */
export function numberParameter(name: string, fallback: number, env: Env = process.env, rule: NumberRule = {}): number {
  return optionalNumberParameter(name, env, rule) ?? fallback;
}

/** Sedna compares with the lower-cased string "true". */
function flagParameter(name: string, env: Env): boolean {
  return (getParameter(name, 'false', env) ?? 'false').toLowerCase() === 'true';
}

function listParameter(name: string, separator: string, env: Env): string[] {
  const raw = getParameter(name, undefined, env);
  return raw === undefined ? [] : raw.split(separator).map((s) => s.trim()).filter((s) => s !== '');
}

/** Every variable of lib.md §1.1 (both tables); undefined where Sedna has no default. */
export interface WorkerContext {
  lcServer: string;
  /** `WORKER_TOKEN` (our addition): the node's worker token, needed when the LC is not on loopback. */
  workerToken: string | undefined;
  /** `JOB_NAME` or `SERVICE_NAME` (§1.3): JOB_NAME defaults to "sedna", so it wins when unset. */
  jobName: string;
  serviceName: string;
  /** `WORKER_NAME`, else the job name. */
  workerName: string;
  /** `NAMESPACE`, else the job name. */
  namespace: string;
  modelUrl: string | undefined;
  modelName: string | undefined;
  modelUrls: string | undefined;
  baseModelUrl: string | undefined;
  pretrainedModelUrl: string;
  originalDatasetUrl: string | undefined;
  trainDatasetUrl: string | undefined;
  testDatasetUrl: string | undefined;
  datasetName: string | undefined;
  dataPathPrefix: string;
  backendType: string;
  deviceCategory: string;
  logLevel: string;
  transmitter: string;
  aggDataPath: string;
  s3EndpointUrl: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `PARAMETERS`: a file path or JSON string, left for the caller to load. */
  parameters: string | undefined;
  modelLoadMode: string;
  modelHotUpdate: boolean;
  modelHotUpdateConfig: string | undefined;
  modelPollPeriodSeconds: number;
  lcPeriodSeconds: number;
  /** Sedna defaults the IPs to the host's own address, which needs a socket: resolved by the feature. */
  bigModelIp: string | undefined;
  bigModelPort: number;
  bigModelBindIp: string | undefined;
  bigModelBindPort: number;
  miningMode: string;
  aggProtocol: string;
  aggIp: string;
  aggPort: number;
  aggBindIp: string | undefined;
  aggBindPort: number;
  connectTimeoutSeconds: number;
  participantsCount: number | undefined;
  kbServer: string | undefined;
  outputUrl: string;
  cloudKbIndex: string | undefined;
  hasCompletedInitialTraining: boolean;
  minTrainSample: number;
  operator: string;
  modelThreshold: number;
  edgeOutputUrl: string;
  unseenSaveUrl: string;
  statusIp: string;
  imageTopicUrl: string;
  kbUrl: string;
  knowledgeBaseServer: string | undefined;
  knowledgeBasePath: string;
  kafkaEnabled: boolean;
  kafkaBindIps: string[];
  kafkaBindPorts: string[];
  batchSize: number;
}

/** A frozen snapshot of the worker's environment with Sedna's defaults. */
export function workerContext(env: Env = process.env): Readonly<WorkerContext> {
  const get = (name: string, fallback?: string): string | undefined => getParameter(name, fallback, env);
  const num = (name: string, fallback: number): number => numberParameter(name, fallback, env);
  const jobName = get('JOB_NAME', 'sedna') ?? get('SERVICE_NAME') ?? 'sedna';
  const dataPathPrefix = get('DATA_PATH_PREFIX', '/home/data') ?? '/home/data';
  const participants = get('PARTICIPANTS_COUNT');
  const context: WorkerContext = {
    lcServer: get('LC_SERVER', 'http://127.0.0.1:9100') ?? '',
    workerToken: get('WORKER_TOKEN'),
    jobName,
    serviceName: get('SERVICE_NAME', '') ?? '',
    workerName: get('WORKER_NAME') ?? jobName,
    namespace: get('NAMESPACE') ?? jobName,
    modelUrl: get('MODEL_URL'),
    modelName: get('MODEL_NAME'),
    modelUrls: get('MODEL_URLS'),
    baseModelUrl: get('BASE_MODEL_URL'),
    pretrainedModelUrl: get('PRETRAINED_MODEL_URL', './') ?? './',
    originalDatasetUrl: get('ORIGINAL_DATASET_URL'),
    trainDatasetUrl: get('TRAIN_DATASET_URL'),
    testDatasetUrl: get('TEST_DATASET_URL'),
    datasetName: get('DATASET_NAME'),
    dataPathPrefix,
    backendType: (get('BACKEND_TYPE', 'TENSORFLOW') ?? '').toUpperCase(),
    deviceCategory: get('DEVICE_CATEGORY', 'CPU') ?? '',
    logLevel: get('LOG_LEVEL', 'INFO') ?? '',
    transmitter: get('TRANSMITTER', 'ws') ?? '',
    aggDataPath: get('AGG_DATA_PATH', './') ?? '',
    s3EndpointUrl: get('S3_ENDPOINT_URL', '') ?? '',
    accessKeyId: get('ACCESS_KEY_ID', '') ?? '',
    secretAccessKey: get('SECRET_ACCESS_KEY', '') ?? '',
    parameters: get('PARAMETERS'),
    modelLoadMode: get('MODEL_LOAD_MODE', 'file') ?? '',
    modelHotUpdate: flagParameter('MODEL_HOT_UPDATE', env),
    modelHotUpdateConfig: get('MODEL_HOT_UPDATE_CONFIG'),
    modelPollPeriodSeconds: num('MODEL_POLL_PERIOD_SECONDS', 60),
    lcPeriodSeconds: num('LC_PERIOD', 30),
    bigModelIp: get('BIG_MODEL_IP'),
    bigModelPort: num('BIG_MODEL_PORT', 5000),
    bigModelBindIp: get('BIG_MODEL_BIND_IP'),
    bigModelBindPort: num('BIG_MODEL_BIND_PORT', 5000),
    miningMode: get('MINING_MODE', 'inference-then-mining') ?? '',
    aggProtocol: get('AGG_PROTOCOL', 'ws') ?? '',
    aggIp: get('AGG_IP', '127.0.0.1') ?? '',
    aggPort: num('AGG_PORT', 7363),
    aggBindIp: get('AGG_BIND_IP'),
    aggBindPort: num('AGG_BIND_PORT', 7363),
    connectTimeoutSeconds: num('CONNECT_TIMEOUT', 300),
    participantsCount: participants === undefined ? undefined : num('PARTICIPANTS_COUNT', 1),
    kbServer: get('KB_SERVER'),
    outputUrl: get('OUTPUT_URL', '/tmp') ?? '',
    cloudKbIndex: get('CLOUD_KB_INDEX'),
    hasCompletedInitialTraining: flagParameter('HAS_COMPLETED_INITIAL_TRAINING', env),
    minTrainSample: num('MIN_TRAIN_SAMPLE', 10),
    operator: get('operator', '>') ?? '',
    modelThreshold: num('model_threshold', 0.1),
    edgeOutputUrl: get('edge_output_url', '/var/lib/sedna/kb') ?? '',
    unseenSaveUrl: get('unseen_save_url', `${dataPathPrefix.replace(/\/+$/, '')}/unseen_samples`) ?? '',
    statusIp: get('STATUS_IP', '127.0.0.1') ?? '',
    imageTopicUrl: get('IMAGE_TOPIC_URL', tmpdir()) ?? '',
    kbUrl: get('KB_URL', 'sqlite:///lifelong_kb.sqlite3') ?? '',
    knowledgeBaseServer: get('KnowledgeBaseServer'),
    knowledgeBasePath: get('KnowledgeBasePath', '') ?? '',
    kafkaEnabled: flagParameter('KAFKA_ENABLED', env),
    kafkaBindIps: listParameter('KAFKA_BIND_IPS', ',', env),
    kafkaBindPorts: listParameter('KAFKA_BIND_PORTS', ',', env),
    batchSize: num('batch_size', 1),
  };
  return Object.freeze(context);
}
