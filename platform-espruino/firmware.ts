// How the firmware holds text, found once when the module loads. Firmware without Unicode support
// (the ESP32's) keeps a char in 8 bits: a string is its bytes, and text is its UTF-8 bytes.
// Unicode firmware (the Linux build, Bangle.js 2) holds a string from a literal or JSON.parse as
// UTF-8 characters. The probe is made at run time, so neither the minifier nor this file's
// encoding decides the answer: an escaped "é" parses to one byte on the first, two on the second.
// (String.fromCharCode keeps 8 bits on both, so it cannot tell them apart.)
export const BYTE_STRINGS = E.toUint8Array(JSON.parse('"\\u00e9"')).length === 1;
