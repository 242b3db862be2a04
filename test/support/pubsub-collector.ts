// Collects every message a subscription delivers (acked at once), for assertions on what a
// consumer of `recording-snippets` sees: body, attributes, ordering key, arrival order.
import type { PubSub, Subscription } from '@google-cloud/pubsub';

export interface Received {
  body: any;
  attributes: Record<string, string>;
  orderingKey: string | undefined;
  messageId: string;
}

export class Collector {
  readonly messages: Received[] = [];
  private sub: Subscription | undefined;

  constructor(private readonly pubsub: PubSub, private readonly subscription: string) {}

  open(): this {
    const sub = this.pubsub.subscription(this.subscription);
    sub.on('message', (m) => {
      this.messages.push({ body: JSON.parse(m.data.toString()), attributes: { ...m.attributes }, orderingKey: m.orderingKey || undefined, messageId: m.id });
      m.ack();
    });
    sub.on('error', () => undefined); // an emulator being restarted; the test reopens
    this.sub = sub;
    return this;
  }

  async close(): Promise<void> {
    await this.sub?.close().catch(() => undefined);
    this.sub = undefined;
  }

  for(livestreamId: string): Received[] {
    return this.messages.filter((m) => m.attributes.livestreamId === livestreamId);
  }

  async waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
