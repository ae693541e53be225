import type { Agent } from 'undici';
import {
  type ClientCertificate,
  certificateIdentity,
  checkClientCertificate,
  tlsOptions,
} from './client-certificate.js';

/**
 * The undici Agents of one `httpTransport`: the default one (the transport's own client certificate, if any), and one
 * per distinct client certificate that requests carry. TLS presents a client certificate once per connection, so
 * requests with different identities cannot share connections: each identity gets its own pool, built with the same
 * connect options (the SSRF-guarded `lookup`, `ca`, timeouts), so DNS pinning and the guard hold for every one.
 *
 * At most `max` certificate Agents are kept, least recently used first out; an evicted Agent is closed (its requests
 * in flight finish, its idle connections go), and `close()`/`destroy()` end them all.
 */
export class AgentPool {
  private readonly byCertificate = new Map<string, Agent>();
  private closed = false;

  constructor(
    private readonly make: (certificate: ClientCertificate) => Agent,
    private readonly max: number,
    /** The transport's own Agent (its own client certificate, if any), for requests that carry none. */
    private readonly defaultAgent: Agent,
  ) {}

  /**
   * The Agent for a request's certificate (the default one without). A certificate seen for the first time is
   * validated (an `OptionsError` naming `clientCertificate` when it does not hold a matching key).
   */
  agentFor(certificate: ClientCertificate | undefined): Agent {
    if (certificate === undefined || this.closed) return this.defaultAgent;
    const identity = certificateIdentity(certificate);
    let agent = this.byCertificate.get(identity);
    if (agent !== undefined) {
      // Re-inserted: a Map iterates in insertion order, so the first key is the least recently used.
      this.byCertificate.delete(identity);
    } else {
      agent = this.make(checkClientCertificate(certificate, 'request.clientCertificate'));
      if (this.byCertificate.size >= this.max) this.evictOldest();
    }
    this.byCertificate.set(identity, agent);
    return agent;
  }

  /** Certificate Agents kept now (the default one not counted). */
  get size(): number {
    return this.byCertificate.size;
  }

  private evictOldest(): void {
    const [identity, agent] = this.byCertificate.entries().next().value as [string, Agent];
    this.byCertificate.delete(identity);
    agent.close().catch(() => {});
  }

  async close(): Promise<void> {
    this.closed = true;
    const agents = [this.defaultAgent, ...this.byCertificate.values()];
    this.byCertificate.clear();
    await Promise.all(agents.map((agent) => (agent.closed || agent.destroyed ? undefined : agent.close())));
  }

  async destroy(): Promise<void> {
    this.closed = true;
    const agents = [this.defaultAgent, ...this.byCertificate.values()];
    this.byCertificate.clear();
    await Promise.all(agents.map((agent) => (agent.destroyed ? undefined : agent.destroy())));
  }
}

/** The connect options of a certificate's Agent: the transport's own, plus the certificate. */
export function withCertificate<T extends object>(connect: T, certificate: ClientCertificate | undefined): T {
  return certificate === undefined ? connect : { ...connect, ...tlsOptions(certificate) };
}
