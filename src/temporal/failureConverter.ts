// Loaded by path (workflow bundle and worker): failure messages and stack traces travel in
// an encoded-attributes payload, which the payload codec encrypts like any other payload.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
