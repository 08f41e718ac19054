import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SEND_QUEUE } from '#lib/aws/queue-definition.ts';

/** The send queue and its DLQ, as the CDK stack makes them: redrive after `maxReceiveCount`. */
export async function createSendQueues(
  sqs: SQSClient,
  name: string,
  settings: {
    visibilityTimeoutSeconds: number;
    maxReceiveCount: number;
    dlqRetentionDays: number;
  } = SEND_QUEUE,
): Promise<{ send: string; sendArn: string; deadLetter: string }> {
  const deadLetter = await createQueue(sqs, `${name}-dlq`, {
    MessageRetentionPeriod: String(settings.dlqRetentionDays * 86_400),
  });
  const send = await createQueue(sqs, name, {
    VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: await queueArn(sqs, deadLetter),
      maxReceiveCount: settings.maxReceiveCount,
    }),
  });
  return { send, sendArn: await queueArn(sqs, send), deadLetter };
}

async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string>) {
  const answer = await sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
  );
  if (!answer.QueueUrl) throw new Error(`queue ${name} has no URL`);
  return answer.QueueUrl;
}

/** A queue's ARN, which a redrive policy and an event source name it by. */
export async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const answer = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = answer.Attributes?.QueueArn;
  if (!arn) throw new Error(`queue ${queueUrl} has no ARN`);
  return arn;
}
