// What an authorizer decides on: Kubernetes' authorizer.Attributes, and the review services the
// TokenReview and SubjectAccessReview kinds answer from.
import type { UserInfo } from '../authn/user.ts';

export interface Attributes {
  user: UserInfo;
  verb: string;
  /** True for /api and /apis resource paths; false for /healthz, /version, discovery... */
  resourceRequest: boolean;
  namespace?: string;
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  /** Non-resource requests: the URL path. */
  path?: string;
}

export type Verdict = 'allow' | 'deny' | 'no-opinion';

export interface Decision {
  verdict: Verdict;
  reason: string;
}

export interface Authorizer {
  authorize(attributes: Attributes): Decision;
}

export type TokenReviewResult = { authenticated: true; user: UserInfo; audiences: string[] } | { authenticated: false; error: string };

/** What the review kinds need from the server's authentication and authorization. */
export interface AuthServices {
  reviewToken(token: string, audiences: string[]): TokenReviewResult;
  authorize(attributes: Attributes): Decision;
}
