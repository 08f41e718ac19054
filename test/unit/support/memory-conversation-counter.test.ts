import { describeConversationCounterContract } from '../../support/conversation-counter-contract.ts';
import {
  memoryConversationCounter,
  memorySendStore,
  memoryTable,
} from '../../support/memory-ports.ts';

const table = memoryTable();

describeConversationCounterContract('memoryConversationCounter', {
  counter: () => memoryConversationCounter(table),
  hours: async (person) => (await memorySendStore(table).readPerson(person)).conversations,
});
