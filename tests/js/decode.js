// Decodes ChirpStack gw messages with the official JavaScript package (google-protobuf), the way
// a Node.js consumer of edge-agent's MQTT topics would. stdin: a JSON array of
// {"type": "UplinkFrame" | "GatewayStats" | ..., "hex": "<protobuf bytes>"}; stdout: a JSON
// array of each message's toObject() (bytes fields as base64, as google-protobuf gives them).
"use strict";
const gw = require("@chirpstack/chirpstack-api/gw/gw_pb");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const out = JSON.parse(input).map(({ type, hex }) => {
    const cls = gw[type];
    if (cls === undefined) throw new Error(`no gw message ${type}`);
    return cls.deserializeBinary(Uint8Array.from(Buffer.from(hex, "hex"))).toObject();
  });
  process.stdout.write(JSON.stringify(out));
});
