// Writes each case's protobuf inputs from its steps.json with Eclipse Tahu's own encoder
// (sparkplug-payload 1.0.3, a dev dependency of @parkpulse/sparkplug), so the golden inputs do
// not come from the decoder under test. Run after editing a steps.json:
//   node libs/influx/testdata-sparkplug/generate.mjs
// A step is { "topic", "tahu": <Tahu payload object> } (encodePayload), { "topic", "proto":
// <org.eclipse.tahu.protobuf.Payload object> } (Tahu's generated protobuf code, for what its
// encoder cannot express: unknown datatypes, raw oneof members), or { "topic", "text" } /
// { "topic", "hex" } for bytes that are no protobuf at all; "truncate": n cuts the bytes to n.
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const __dirname = import.meta.dirname;
const tahu = require('sparkplug-payload').get('spBv1.0');
const proto = require('sparkplug-payload/lib/sparkplugPayloadProto.js');

const Payload = proto.org.eclipse.tahu.protobuf.Payload;
for (const name of readdirSync(__dirname).sort()) {
  const dir = join(__dirname, name);
  if (!statSync(dir).isDirectory()) continue;
  for (const f of readdirSync(dir)) if (/^\d\d\.(pb|topic)$/.test(f)) rmSync(join(dir, f));
  const steps = JSON.parse(readFileSync(join(dir, 'steps.json'), 'utf8'));
  steps.forEach((step, i) => {
    let bytes;
    if (step.tahu) bytes = Buffer.from(tahu.encodePayload(step.tahu));
    else if (step.proto)
      bytes = Buffer.from(Payload.encode(Payload.fromObject(step.proto)).finish());
    else if (step.text !== undefined) bytes = Buffer.from(step.text, 'utf8');
    else bytes = Buffer.from(step.hex, 'hex');
    if (step.truncate !== undefined) bytes = bytes.subarray(0, step.truncate);
    const n = String(i + 1).padStart(2, '0');
    writeFileSync(join(dir, `${n}.topic`), `${step.topic}\n`);
    writeFileSync(join(dir, `${n}.pb`), bytes);
  });
}
