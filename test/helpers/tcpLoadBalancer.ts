// A TCP (layer 4) load balancer in front of a Temporal cluster's frontends, as a team would run
// HAProxy, an NLB or a Kubernetes Service: each client connection goes to the next backend in
// turn, to the other one when it refuses, and is closed when its backend goes away, so the
// client reconnects — through the balancer, to a live frontend. TLS passes through untouched:
// the client verifies the frontend's certificate.
import { once } from 'node:events';
import net from 'node:net';

export interface Backend {
  host: string;
  port: number;
}

export class TcpLoadBalancer {
  /** connections handed to each backend, by index */
  readonly served: number[];
  private next = 0;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly backends: Backend[],
  ) {
    this.served = backends.map(() => 0);
  }

  /** Listens on `host`:`port` (0: a free port). */
  static async start(backends: Backend[], host = '127.0.0.1', port = 0): Promise<TcpLoadBalancer> {
    const server = net.createServer();
    const lb = new TcpLoadBalancer(server, backends);
    server.on('connection', (client) => lb.accept(client));
    server.listen(port, host);
    await once(server, 'listening');
    return lb;
  }

  get address(): string {
    const a = this.server.address() as net.AddressInfo;
    return `${a.address}:${a.port}`;
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
  }

  private accept(client: net.Socket): void {
    this.track(client);
    client.on('error', () => client.destroy());
    client.pause();
    const first = this.next++ % this.backends.length;
    const attempt = (tried: number): void => {
      if (client.destroyed) return;
      if (tried === this.backends.length) {
        client.destroy();
        return;
      }
      const i = (first + tried) % this.backends.length;
      const upstream = net.connect(this.backends[i]!);
      this.track(upstream);
      upstream.once('error', () => {
        upstream.destroy();
        attempt(tried + 1);
      });
      upstream.once('connect', () => {
        this.served[i]!++;
        upstream.removeAllListeners('error');
        // either side ending ends both: a client must see its frontend go away
        upstream.on('error', () => client.destroy());
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.pipe(client);
        client.pipe(upstream);
        client.resume();
      });
    };
    attempt(0);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
