import { subscriptionId } from '#lib/domain/subscription.ts';
import { memorySendStore, memoryTable, subscriptionView } from '../../../support/memory-ports.ts';
import {
  type ClaimStoreHarness,
  claimsOf,
  describePersonBudgetContract,
  describeSendStoreContract,
} from '../../../support/send-store-contract.ts';

const table = memoryTable();
let sequence = 0;

const harness: ClaimStoreHarness = {
  store: () => memorySendStore(table),
  put: async (subscription) => {
    table.subscriptions.set(subscriptionId(subscription), structuredClone(subscription));
  },
  get: async (key) => {
    const item = table.subscriptions.get(subscriptionId(key));
    return item && subscriptionView(item);
  },
  claims: async (key) => claimsOf(table.subscriptions.get(subscriptionId(key))),
  freshKey: () => {
    sequence += 1;
    return { pageId: '1001', psid: `p${sequence}`, topicId: 'deals' };
  },
};

describeSendStoreContract('memorySendStore', harness);
describePersonBudgetContract('memorySendStore', harness);
