/** An ACL refused on the client, before any request: the message says which item and why. */
export class AclValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AclValidationError';
  }
}
