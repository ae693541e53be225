// A webhook receiver for the example: verifies X-LD-Signature, de-duplicates by webhook-id (deliveries are
// at-least-once) and prints what arrived. PORT defaults to 4000 (0: a free port the OS picks; the line
// "receiver: listening on <url>" gives the real one), SECRET to the one emitter.mjs sets.
// (examples/postgres and examples/bullmq carry the same receiver, so each folder runs on its own.)
import { createServer } from 'node:http';
import { verifySignature } from 'webhook-dispatcher';

const port = Number(process.env.PORT ?? 4000);
const secret = process.env.SECRET ?? 'example-secret';
const seen = new Set();

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    if (!verifySignature(body, String(req.headers['x-ld-signature'] ?? ''), secret)) {
      res.writeHead(401).end('bad signature');
      return;
    }
    const id = String(req.headers['webhook-id']);
    const duplicate = seen.has(id);
    seen.add(id);
    const event = JSON.parse(body);
    console.log(
      `receiver: ${duplicate ? 'duplicate, ignored' : 'received'} ${id} event ${event._id}: ${event.title} (${seen.size} distinct)`,
    );
    res.writeHead(200).end('ok');
  });
});
server.listen(port, '127.0.0.1', () =>
  console.log(`receiver: listening on http://127.0.0.1:${server.address().port}/hooks`),
);
