// Handlers by resource kind, as Sedna routes messages (§2.2 registry, §3.4 managers): kinds are
// matched lower-cased, because the LC reports `Dataset` where the GM registers `dataset`, and a
// second handler for one kind is a programming error.

export class KindHandlers<H> {
  private readonly handlers = new Map<string, H>();

  register(kind: string, handler: H): void {
    const key = kind.toLowerCase();
    if (key === '') throw new Error('a handler needs a resource kind');
    if (this.handlers.has(key)) throw new Error(`a handler for kind ${key} is already registered`);
    this.handlers.set(key, handler);
  }

  get(kind: string): H | undefined {
    return this.handlers.get(kind.toLowerCase());
  }
}
