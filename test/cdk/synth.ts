import { readFileSync } from 'node:fs';
import { App, CfnResource, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { RecurrentStack, type RecurrentStackProps } from '../../cdk/recurrent-stack.ts';

/** The feature flags and context of cdk.json, so tests synthesize what `cdk synth` does. */
function cdkJsonContext(): Record<string, unknown> {
  const cdkJson: unknown = JSON.parse(
    readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'),
  );
  if (typeof cdkJson !== 'object' || cdkJson === null || !('context' in cdkJson)) return {};
  const { context } = cdkJson;
  return typeof context === 'object' && context !== null ? { ...context } : {};
}

/** A RecurrentStack in an app with cdk.json's context; handlers are stubs unless asked. */
export function buildStack(props: RecurrentStackProps = {}, outdir?: string) {
  const app = new App({ context: cdkJsonContext(), ...(outdir && { outdir }) });
  const stack = new RecurrentStack(app, 'Test', {
    ...props,
    recurrent: { bundle: false, ...props.recurrent },
  });
  return { app, stack };
}

/** A RecurrentStack with stub handlers, and its template. */
export function synthesize(props: RecurrentStackProps = {}) {
  const { app, stack } = buildStack(props);
  return { app, stack, template: Template.fromStack(stack) };
}

/** The logical id of a construct's CloudFormation resource. */
export function logicalId(stack: Stack, construct: IConstruct): string {
  const resource = CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild;
  if (!CfnResource.isCfnResource(resource)) {
    throw new Error(`${construct.node.path} has no CloudFormation resource`);
  }
  const id: unknown = stack.resolve(resource.logicalId);
  if (typeof id !== 'string') throw new Error(`${construct.node.path}: unresolved logical id`);
  return id;
}

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
}

/** Every IAM statement attached to a role, from all the policies that name it. */
export function statementsOf(template: Template, roleLogicalId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies).flatMap((policy) => {
    const roles: unknown[] = policy.Properties.Roles ?? [];
    const attached = roles.some(
      (role) => JSON.stringify(role) === JSON.stringify({ Ref: roleLogicalId }),
    );
    return attached ? (policy.Properties.PolicyDocument.Statement as Statement[]) : [];
  });
}

/** The actions of statements, flattened. */
export function actionsOf(statements: readonly Statement[]): string[] {
  return statements.flatMap((statement) =>
    Array.isArray(statement.Action) ? statement.Action : [statement.Action],
  );
}

/** Each statement as its sorted actions on its resource (IAM policy minimization sorts them). */
export function permissionsOf(statements: readonly Statement[]) {
  return statements.map((statement) => ({
    actions: actionsOf([statement]).sort(),
    resource: statement.Resource,
  }));
}
