import { type DynamoDBDocumentClient, paginateQuery } from '@aws-sdk/lib-dynamodb';

/** Every item of one partition, following `LastEvaluatedKey` (strongly consistent). */
export async function queryPartition(
  client: DynamoDBDocumentClient,
  table: string,
  pk: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for await (const page of paginateQuery(
    { client },
    {
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ConsistentRead: true,
    },
  )) {
    items.push(...(page.Items ?? []));
  }
  return items;
}

/**
 * Every item of one partition whose sort key lies from `from.sk` to `to.sk` (both included),
 * following `LastEvaluatedKey`; `from` and `to` are keys of the same partition.
 */
export async function queryKeyRange(
  client: DynamoDBDocumentClient,
  table: string,
  from: { pk: string; sk: string },
  to: { sk: string },
  options: { consistent?: boolean } = {},
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for await (const page of paginateQuery(
    { client },
    {
      TableName: table,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': from.pk, ':from': from.sk, ':to': to.sk },
      ...(options.consistent && { ConsistentRead: true }),
    },
  )) {
    items.push(...(page.Items ?? []));
  }
  return items;
}
