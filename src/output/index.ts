// The output layer's public surface: the value model, both renderers, printf
// and strftime formatting, diagnostics.
export * from './value.js';
export { decodeBytes, encodeOutput, byteChar } from './bytes.js';
export { strerror } from './errno.js';
export { bufText, ntop, macText, stackText, valueText, type LeafContext } from './scalars.js';
export { orderEntries, takeTop, average } from './sort.js';
export { mapText, valueLine, histText, lhistText, attachedProbesText, lostEventsText, type TextOptions } from './text.js';
export { mapJson, valueJson, jsonValue, jsonEscape, messageJson, histJson, lhistJson, attachedProbesJson, lostEventsJson, type JsonOptions } from './json.js';
export { parseFormat, checkFormatArgs, formatPrintf, formatConversion, type FormatSpec, type Conversion, type ConversionChar, type LengthModifier, type ExpectedKind, type PrintfOptions } from './printf.js';
export { formatStrftime, strftime, localTime, type Tm, type StrftimeOptions } from './strftime.js';
export { formatDiagnostic, helperErrorMessage, type Diagnostic, type DiagnosticLevel, type SourceRange } from './diagnostic.js';
export { createRenderer, textRenderer, jsonRenderer, type Renderer, type HelperError } from './renderer.js';
