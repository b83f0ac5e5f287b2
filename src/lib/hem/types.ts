// The contract of a hard-example-mining filter (lib.md §6): given the edge model's result for one
// input, answer whether it is hard (and so goes to the cloud model).

export interface HardExampleMining {
  readonly name: string;
  /** Invalid or empty input is never hard (as Sedna's `data_check` rules). */
  isHard(result: unknown): boolean;
}

/** What a factory may use besides the parameters; `random` lets tests fix `Random`'s draws. */
export interface HemOptions {
  random?: () => number;
}

/** Builds a filter from the CRD's string parameters; throws `ConfigError` on a bad one. */
export type HemFactory = (param: Readonly<Record<string, string>>, options: HemOptions) => HardExampleMining;
