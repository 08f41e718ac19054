import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';

/** AWS credentials, as the SDK's providers give them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** What the signer hands a hash: text or bytes in any of JavaScript's containers. */
type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytesOf(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** SHA-256 (or its HMAC, given a secret) on node:crypto, in the shape the SigV4 signer wants. */
class NodeSha256 {
  private readonly secret: string | Uint8Array | undefined;
  private hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : bytesOf(secret);
    this.hash = this.fresh();
  }

  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
}

/** The region in an execute-api host (`<id>.execute-api.<region>.amazonaws.com`), if it is one. */
export function executeApiRegion(url: URL): string | undefined {
  return /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1];
}

/**
 * Signs a request for API Gateway's IAM authorizer (service `execute-api`) and answers the
 * headers to send. Credentials come from the AWS SDK's default chain (environment, profile, SSO,
 * instance role) unless given.
 */
export async function signForExecuteApi(
  request: { method: string; url: URL; headers: Record<string, string>; body?: string },
  region: string,
  credentials?: AwsCredentials,
): Promise<Record<string, string>> {
  // Loaded only for deployed stacks: local use needs neither.
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const provider =
    credentials === undefined
      ? (await import('@aws-sdk/credential-provider-node')).defaultProvider()
      : async () => credentials;
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials: provider,
    sha256: NodeSha256,
  });
  const { url } = request;
  const signed = await signer.sign({
    method: request.method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port !== '' && { port: Number(url.port) }),
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { ...request.headers, host: url.host },
    ...(request.body !== undefined && { body: request.body }),
  });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) headers[name] = String(value);
  return headers;
}
