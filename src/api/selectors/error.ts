// A label or field selector that cannot be parsed or names an invalid key or value. The API server
// answers it with 400 BadRequest and this message; a client (the controller runtime's store)
// sees the same message, since both share these parsers.
export class SelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorError';
  }
}
