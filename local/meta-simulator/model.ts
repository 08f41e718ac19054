import { accessChecks } from './model-access.ts';
import { setupControls, setupReads } from './model-diagnostics.ts';
import { tokenReads } from './model-reads.ts';
import { sendActions } from './model-sends.ts';
import { pageSetup, peopleActions } from './model-setup.ts';
import { createModelState } from './model-state.ts';
import { tokenListActions } from './model-token-list.ts';
import type { MetaModelOptions } from './model-types.ts';

export type { TokenExpiryFormat, TokenNode } from './meta-events.ts';
export { LEGACY_COUNTRIES } from './model-state.ts';
export type { TokenListRules, UnsubscribeRow } from './model-token-list.ts';
export {
  type MetaModelOptions,
  type ModelBehaviour,
  type ModelResult,
  type PageSetup,
  type PersonSetup,
  type SentMessage,
  SimulatorSetupError,
  type TokenSeed,
  type TokenView,
} from './model-types.ts';
export type { OptInRequest } from './request-checks.ts';

/**
 * Meta's side of Messenger marketing messages, in memory and without HTTP: Pages, people,
 * opt-in requests, tokens, sends and their rules (META_PLATFORM.md sections 2 to 5). Time comes
 * only from the injected clock; webhooks leave through `emit`.
 */

/** The model behind the simulator's HTTP surface; everything is synchronous. */
export type MetaModel = ReturnType<typeof createMetaModel>;

/** Creates an empty platform: one state, read and changed by each part of the model. */
export function createMetaModel(options: MetaModelOptions) {
  const state = createModelState(options);
  return {
    ...pageSetup(state),
    ...peopleActions(state),
    ...accessChecks(state),
    ...sendActions(state),
    ...tokenReads(state),
    ...tokenListActions(state),
    ...setupReads(state),
    ...setupControls(state),
  };
}
