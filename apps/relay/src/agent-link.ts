import { AgentNotifier } from '@astral/transport';
import { Logger } from '@astral/config';

/** Sends one event to the agent without waiting; a failure is logged as a warning, never thrown. */
export type TellAgent = (what: string, call: (notifier: AgentNotifier) => Promise<void>) => void;

export function agentTeller(notifier: AgentNotifier, log: Logger): TellAgent {
  return (what, call) => {
    call(notifier).catch((err: Error) => log.warn({ err: err.message }, `could not tell the agent: ${what}`));
  };
}
