import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';

/**
 * Sends a conditional update; false when its condition did not hold (the item moved on, or is
 * gone), which callers treat as "nothing to change", never as an error.
 */
export async function updateIfCondition(
  client: DynamoDBDocumentClient,
  command: UpdateCommand,
): Promise<boolean> {
  try {
    await client.send(command);
    return true;
  } catch (error: unknown) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
