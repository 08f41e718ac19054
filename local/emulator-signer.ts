import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

type RequestSigner = Extract<NonNullable<DynamoDBClientConfig['signer']>, { sign: unknown }>;

/** The credential scope the emulators read from the Authorization header (they check no more). */
const PLACEHOLDER_AUTHORIZATION =
  'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/emulator/aws4_request, SignedHeaders=host, Signature=0';

/**
 * The local runtime's SDK signer: DynamoDB Local and fauxqs want an Authorization header that
 * names an access key but verify no signature, and SigV4 (hashing every body, four HMACs a
 * call) was most of the runtime's cost per call, on both sides. Only for the emulators: AWS
 * refuses such a request. The runtime signs only its DynamoDB clients with it (see runtime.ts).
 */
export const emulatorSigner: RequestSigner = {
  async sign(request) {
    request.headers.authorization = PLACEHOLDER_AUTHORIZATION;
    request.headers['x-amz-date'] = '20260101T000000Z';
    return request;
  },
};
