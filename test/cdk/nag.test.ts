import { Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import type { RecurrentStackProps } from '../../cdk/recurrent-stack.ts';
import { NO_ALARM_TARGET_WARNING } from '../../cdk/recurring-notifications.ts';
import { synthesize } from './synth.ts';

const everyOption: RecurrentStackProps = {
  alarmEmail: 'ops@example.com',
  encryptionKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  metaSecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:recurrent/meta-AbCdEf',
  recurrent: { tableCapacity: { maxReadCapacity: 50, maxWriteCapacity: 50 } },
};

describe.each([
  ['its defaults', {}],
  ['every option', everyOption],
] as const)('the stack with %s', (_, props) => {
  const { stack } = synthesize(props);

  it('has no AwsSolutions finding, error or warning, that is not acknowledged', () => {
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
    const findings = report.violations.map(
      (violation) =>
        `${violation.severity} ${violation.ruleName} at ${violation.violatingResources
          .map((resource) => resource.constructPath)
          .join(', ')}: ${violation.description}`,
    );
    expect(findings).toEqual([]);
  });

  it('gives a written reason for every acknowledged finding', () => {
    const acknowledged = stack.node
      .findAll()
      .flatMap((construct) => construct.node.metadata)
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>));
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const [rule, reason] of acknowledged) {
      expect(rule).toMatch(/AwsSolutions-/);
      expect(reason.length, rule).toBeGreaterThan(40);
    }
  });

  it('has no CDK error or warning annotations but our own that no alarm target is set', () => {
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    const ours = `[ack: ${NO_ALARM_TARGET_WARNING}]`;
    const warnings = annotations
      .findWarning('*', Match.anyValue())
      .filter((warning) => !String(warning.entry.data).includes(ours));
    expect(warnings).toEqual([]);
  });
});
