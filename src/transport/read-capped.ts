/**
 * Reads at most `keepBytes` of a response body as text and discards the rest without buffering it. Gives up
 * (and lets the caller destroy the stream) after `discardBytes` in all, so a huge body cannot hold a connection.
 * A stream that fails half-way gives what arrived before, with the failure in `error`.
 */
export async function readCapped(
  chunks: AsyncIterable<Uint8Array>,
  keepBytes: number,
  discardBytes: number,
): Promise<{ text: string; complete: boolean; error?: unknown }> {
  const kept: Uint8Array[] = [];
  let keptBytes = 0;
  let total = 0;
  try {
    return await read();
  } catch (error) {
    return { text: decode(kept, keptBytes), complete: false, error };
  }

  async function read() {
    for await (const chunk of chunks) {
      if (keptBytes < keepBytes) {
        const slice =
          chunk.byteLength > keepBytes - keptBytes ? chunk.subarray(0, keepBytes - keptBytes) : chunk;
        kept.push(slice);
        keptBytes += slice.byteLength;
      }
      total += chunk.byteLength;
      if (total > discardBytes) return { text: decode(kept, keptBytes), complete: false };
    }
    return { text: decode(kept, keptBytes), complete: true };
  }
}

const decoder = new TextDecoder();

function decode(chunks: Uint8Array[], size: number): string {
  if (size === 0) return '';
  if (chunks.length === 1) return decoder.decode(chunks[0]);
  return decoder.decode(Buffer.concat(chunks, size));
}
