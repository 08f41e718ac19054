import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoClient, createSqsClient } from '#lib/aws/clients.ts';
import { emulatorSigner } from '../../local/emulator-signer.ts';

type Next = (args: { request: unknown }) => Promise<unknown>;
interface WithStack {
  middlewareStack: { add(middleware: (next: Next) => Next, options: object): void };
}

/** The Authorization header of every request a client sends, as it leaves. */
function authorizations(client: WithStack) {
  const seen: string[] = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      seen.push(request.headers?.authorization ?? '');
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'recordAuthorization' },
  );
  return seen;
}

describe("the local runtime's emulator signer", () => {
  it('writes and reads DynamoDB Local without a SigV4 signature', async () => {
    const raw = new DynamoDBClient({ signer: emulatorSigner });
    const seen = authorizations(raw as unknown as WithStack);
    const table = `signer-${Date.now()}`;
    await raw.send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const db = createDynamoClient({ signer: emulatorSigner });
    await db.send(new PutCommand({ TableName: table, Item: { pk: 'a', value: 1 } }));
    const answer = await db.send(new GetCommand({ TableName: table, Key: { pk: 'a' } }));
    expect(answer.Item).toEqual({ pk: 'a', value: 1 });
    expect((await raw.send(new ListTablesCommand({}))).TableNames).toContain(table);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((header) => header.endsWith('Signature=0'))).toBe(true);
  });

  it('round-trips a message through fauxqs without a SigV4 signature', async () => {
    const client = createSqsClient({ signer: emulatorSigner });
    const seen = authorizations(client as unknown as WithStack);
    const { QueueUrl } = await client.send(
      new CreateQueueCommand({ QueueName: `signer-${Date.now()}` }),
    );
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello' }));
    const received = await client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    expect(received.Messages?.[0]?.Body).toBe('hello');
    expect(seen.every((header) => header.endsWith('Signature=0'))).toBe(true);
  });
});
