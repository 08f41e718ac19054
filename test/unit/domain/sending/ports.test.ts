import { subscriptionId } from '#lib/domain/subscription.ts';
import { memorySendStore, memoryTable } from '../../../support/memory-ports.ts';
import {
  describePersonBudgetContract,
  describeSendStoreContract,
  type SendStoreHarness,
} from '../../../support/send-store-contract.ts';

const table = memoryTable();
let sequence = 0;

const harness: SendStoreHarness = {
  store: () => memorySendStore(table),
  put: async (subscription) => {
    table.subscriptions.set(subscriptionId(subscription), structuredClone(subscription));
  },
  get: async (key) => structuredClone(table.subscriptions.get(subscriptionId(key))),
  freshKey: () => {
    sequence += 1;
    return { pageId: '1001', psid: `p${sequence}`, topicId: 'deals' };
  },
};

describeSendStoreContract('memorySendStore', harness);
describePersonBudgetContract('memorySendStore', harness);
