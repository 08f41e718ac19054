import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { RecurrentStack } from './recurrent-stack.ts';
import type { ProvisionedCapacity } from './recurring-notifications.ts';

/**
 * The CDK app: one RecurrentStack, checked by cdk-nag on every synth. Optional context
 * (`-c key=value`): `stackName` (default `Recurrent`), `alarmEmail`, `metaSecretArn` (an
 * existing secret's complete ARN), `encryptionKeyArn` (a customer-managed KMS key),
 * `tableBilling` (`onDemand` or `provisioned`), `tableMaxReadCapacity` and
 * `tableMaxWriteCapacity` (auto scaling ceilings when provisioned, default 100).
 */
const app = new App();

function context(key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  return value === undefined || value === null || value === '' ? undefined : String(value);
}

function tableCapacity(): ProvisionedCapacity | undefined {
  const mode = context('tableBilling') ?? 'onDemand';
  if (mode === 'onDemand') return undefined;
  if (mode !== 'provisioned') {
    throw new Error(`context tableBilling: expected onDemand or provisioned, got "${mode}"`);
  }
  const ceiling = (key: string) => {
    const value = Number(context(key) ?? 100);
    if (!Number.isInteger(value) || value < 5) {
      throw new Error(`context ${key}: expected an integer of at least 5`);
    }
    return value;
  };
  return {
    maxReadCapacity: ceiling('tableMaxReadCapacity'),
    maxWriteCapacity: ceiling('tableMaxWriteCapacity'),
  };
}

const alarmEmail = context('alarmEmail');
const metaSecretArn = context('metaSecretArn');
const encryptionKeyArn = context('encryptionKeyArn');
const capacity = tableCapacity();
new RecurrentStack(app, context('stackName') ?? 'Recurrent', {
  description: 'Recurrent: Meta Messenger recurring notifications',
  ...(alarmEmail && { alarmEmail }),
  ...(metaSecretArn && { metaSecretArn }),
  ...(encryptionKeyArn && { encryptionKeyArn }),
  ...(capacity && { recurrent: { tableCapacity: capacity } }),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
