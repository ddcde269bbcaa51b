/** A bad environment variable; the message names it, its value and what is expected. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message)
    this.name = 'ConfigError'
  }
}
