// The API reads snippets back from the object names the shipper writes: every name
// activities/ship/naming.ts produces parses to the same recording, sequence and times, and
// anything else under a livestream's prefix is skipped.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isoFromCompact, parseSnippetName } from '../../apps/api/livestreams/gcs-snippet-store.adapter';
import { compactUtc, objectName } from '../../activities/ship/naming';

describe('snippet object names, written by shipping and read by the API', () => {
  it('round-trips composite and individual names', () => {
    const cases = [
      { livestreamId: 'ls-1', kind: 'composite' as const, sequence: 0, startTime: '2026-01-31T12:00:00.000Z', endTime: '2026-01-31T12:00:15.000Z', contentType: 'video/mp4' as const },
      { livestreamId: 'ls_2', kind: 'individual' as const, hostId: 'h-9', sequence: 1234567, startTime: '2026-12-31T23:59:50.125+00:00', endTime: '2027-01-01T00:00:05.125Z', contentType: 'audio/mpeg' as const },
    ];
    for (const c of cases) {
      const name = objectName(c);
      const parsed = parseSnippetName('b', name, 42, { snippetId: 'id-1', durationMs: '15000' });
      assert.ok(parsed, name);
      assert.equal(parsed.recording, c.kind === 'composite' ? 'composite' : `host-${c.hostId}`);
      assert.equal(parsed.sequence, c.sequence);
      assert.equal(parsed.startTime, new Date(c.startTime).toISOString());
      assert.equal(parsed.endTime, new Date(c.endTime).toISOString());
      assert.equal(parsed.contentType, c.contentType);
      assert.equal(parsed.uri, `gs://b/${name}`);
      assert.equal(parsed.durationMs, 15000);
      assert.equal(isoFromCompact(compactUtc(c.startTime)), new Date(c.startTime).toISOString());
    }
  });

  it('skips what is not a snippet', () => {
    for (const name of [
      'livestreams/ls-1/composite/000001_20260131T120000.000Z_20260131T120015.000Z.mp4.part',
      'livestreams/ls-1/composite/quarantine/000001_20260131T120000.000Z_20260131T120015.000Z.mp4',
      'livestreams/ls-1/host-../000001_20260131T120000.000Z_20260131T120015.000Z.mp4',
      'livestreams/ls-1/composite/1_20260131T120000.000Z_20260131T120015.000Z.mp4',
      'livestreams/ls-1/composite/000001_20260131T120000Z_20260131T120015Z.mp4',
      'clips/c-1.mp4',
    ]) {
      assert.equal(parseSnippetName('b', name, 1), null, name);
    }
    assert.equal(parseSnippetName('b', 'livestreams/ls-1/composite/000001_20260131T120000.000Z_20260131T120015.000Z.mp4', 1, { durationMs: 'n/a' })?.durationMs, undefined);
  });
});
