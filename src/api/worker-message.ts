// The body a worker posts to its LocalController, `POST /sedna/workers/{name}/info` (spec
// control-plane §4.2, appendix D `WorkerMessage`): shared by the LC that parses it and the SDK
// client that sends it.
export interface WorkerMessage {
  name: string;
  namespace: string;
  ownerName: string;
  ownerKind: string;
  ownerInfo: Record<string, unknown> | null;
  kind: string;
  status: string;
  results: Record<string, unknown>[] | null;
  /**
   * Our addition: the uid of the job the worker belongs to (its JOB_UID). A late report of a
   * deleted job then never lands on a new job of the same name: the LC and the GM refuse it.
   */
  ownerUid?: string;
}
