import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoClient } from '#lib/aws/clients.ts';
import { createTable } from '#lib/aws/create-table.ts';

/** A fresh table in DynamoDB Local, named for the test file so files never share state. */
export async function createTestTable(prefix: string) {
  const table = `${prefix}-${randomUUID().slice(0, 8)}`;
  const raw = new DynamoDBClient({});
  await createTable(raw, table);
  raw.destroy();
  return { client: createDynamoClient(), table };
}
