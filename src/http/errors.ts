import type { FastifyError, FastifyInstance } from 'fastify';
import { VigilError, type ErrorCode } from '../errors.js';

/** The one place errors become HTTP responses: `{"error":{"code","message"}}`. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | VigilError, request, reply) => {
    const vigil = toVigilError(error);
    if (vigil.status >= 500) request.log.error({ err: error }, 'request failed');
    void reply.status(vigil.status).send({ error: { code: vigil.code, message: vigil.message } });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
};

function toVigilError(error: FastifyError | VigilError): VigilError {
  if (error instanceof VigilError) return error;
  if (error.validation && error.validation.length > 0) {
    const first = error.validation[0]!;
    const context = error.validationContext ?? 'body';
    let field = first.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const params = first.params as Record<string, unknown>;
    if (typeof params.missingProperty === 'string') field = field ? `${field}.${params.missingProperty}` : params.missingProperty;
    if (typeof params.additionalProperty === 'string') {
      const name = field ? `${field}.${params.additionalProperty}` : params.additionalProperty;
      return new VigilError('invalid_field', `${name}: unknown field`, name);
    }
    const name = field || context;
    return new VigilError(
      typeof params.missingProperty === 'string' ? 'missing_field' : 'invalid_field',
      `${name}: ${first.message ?? 'invalid'}`,
      name,
    );
  }
  if (error.code && FASTIFY_CODES[error.code]) return new VigilError(FASTIFY_CODES[error.code]!, error.message);
  if (error.statusCode && error.statusCode < 500) return new VigilError('bad_request', error.message);
  return new VigilError('internal_error', 'internal error; see the server log');
}
