/** The environment a CLI child needs to reach a repository on the test S3 server (see s3-server.ts). */
import { cliEnv } from './engine-cli.js';
import type { S3TestServer } from './s3-server.js';

/** `DRIVESNAP_REPO` is s3://BUCKET/PREFIX; the endpoint and credentials come from the environment, as a user's would. */
export function s3CliEnv(s3: S3TestServer, prefix: string, vars: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return cliEnv({
    DRIVESNAP_REPO: `s3://${s3.bucket}/${prefix}`,
    DRIVESNAP_S3_ENDPOINT: s3.endpoint,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_REGION: s3.region,
    ...vars,
  });
}
