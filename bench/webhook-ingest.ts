import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { createDynamoClient } from '#lib/aws/clients.ts';
import { createTable } from '#lib/aws/create-table.ts';
import { dynamoTrackedSends } from '#lib/aws/dynamo-tracked-sends.ts';
import { webhookDeps } from '#lib/aws/webhook-deps.ts';
import { systemClock } from '#lib/clock.ts';
import { webhookConfigSchema } from '#lib/config.ts';
import { signBody } from '#lib/http/meta-signature.ts';
import { silentLog } from '#lib/log.ts';
import { createWebhookHandler } from '../functions/webhook.ts';
import { pointSdkAt, startDynamoDbLocal } from '../local/emulators.ts';
import { anApiEvent } from '../test/support/api-event.ts';
import { aDelivery, aMarketingStatus, anOptin, inChanges } from '../test/support/meta-payloads.ts';
import { bundleSize } from './bundle-size.ts';
import { printTable, summarise, writeResult } from './support.ts';

/**
 * Time to acknowledge webhook deliveries of 1, 100 and 1,000 events against DynamoDB Local:
 * opt-ins, then status webhooks about kept Marketing Message sends.
 */
const SIZES = [1, 100, 1000];
/** `--quick`: one run per size. */
const RUNS = process.argv.includes('--quick') ? 1 : 7;
const SECRET = 'bench-secret';
/** The deployed webhook's body limit, read from its configuration schema. */
const MAX_BODY_BYTES = webhookConfigSchema.shape.MAX_BODY_BYTES.parse(undefined);

const dynamo = await startDynamoDbLocal();
pointSdkAt({ dynamo: dynamo.endpoint });
try {
  const table = 'bench-webhook';
  await createTable(new DynamoDBClient({}), table);
  const handler = createWebhookHandler(
    { appSecret: SECRET, verifyToken: 'v', maxBodyBytes: MAX_BODY_BYTES },
    webhookDeps(createDynamoClient(), table, { clock: systemClock, log: silentLog }),
  );
  const rows = [];
  let person = 0;
  for (const size of SIZES) {
    const samples: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const events = Array.from({ length: size }, () => {
        person++;
        return anOptin({ psid: `p${person}`, timestamp: Date.now(), timezone: 'Europe/Paris' });
      });
      const body = aDelivery(events);
      const event = anApiEvent({
        body,
        headers: { 'x-hub-signature-256': signBody(body, SECRET) },
      });
      const started = performance.now();
      const response = await handler(event, {} as Context);
      samples.push(performance.now() - started);
      if (response.statusCode !== 200) throw new Error(`delivery answered ${response.statusCode}`);
    }
    const { median, min, max, runs } = summarise(samples);
    rows.push({
      events: size,
      'median ms': median.toFixed(1),
      'min ms': min.toFixed(1),
      'max ms': max.toFixed(1),
      'events/s': Math.round((size / median) * 1000),
      runs,
    });
  }
  // Status webhooks: deliveries about kept MM sends, each joined and counted, none archived.
  const tracked = dynamoTrackedSends(createDynamoClient(), table);
  const statusRows = [];
  let send = 0;
  for (const size of SIZES) {
    const samples: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const sends = Array.from({ length: size }, () => {
        send++;
        return {
          pageId: '1001',
          psid: `s${send}`,
          topicId: 'deals',
          token: `tok-s${send}`,
          campaignId: 'cmp-1',
          trackingId: `trk-s${send}`,
          sentAt: Date.now() - 60_000,
        };
      });
      await tracked.record(sends);
      const body = inChanges(
        sends.map((kept) => aMarketingStatus('delivery', { ...kept, timestamp: Date.now() })),
      );
      const event = anApiEvent({
        body,
        headers: { 'x-hub-signature-256': signBody(body, SECRET) },
      });
      const started = performance.now();
      const response = await handler(event, {} as Context);
      samples.push(performance.now() - started);
      if (response.statusCode !== 200) throw new Error(`statuses answered ${response.statusCode}`);
    }
    const { median, min, max, runs } = summarise(samples);
    statusRows.push({
      'status events': size,
      'median ms': median.toFixed(1),
      'min ms': min.toFixed(1),
      'max ms': max.toFixed(1),
      'events/s': Math.round((size / median) * 1000),
      runs,
    });
  }
  const bytes = await bundleSize('functions/webhook.ts');
  printTable(rows);
  printTable(statusRows);
  console.log(`webhook bundle (esbuild, minified): ${(bytes / 1024).toFixed(1)} KiB`);
  console.log(
    `written to ${await writeResult('webhook-ingest', { rows, statusRows, bundleBytes: bytes })}`,
  );
} finally {
  await dynamo.stop();
}
