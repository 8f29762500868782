/**
 * Reading base64 path parameters that hold a raw `/`.
 *
 * The reference Python client puts standard base64 into the path unencoded, so a tag whose base64
 * holds `/` arrives split over several path segments. Base64's structure usually tells where one
 * value ends: its length is a multiple of 4 and `=` comes only at the end. Every way of giving
 * each base64 parameter one or more consecutive segments is tried, and the readings in which every
 * such value has that structure are kept. When several are, the one whose values decode to UTF-8
 * text (as the spec requires) wins if it is the only one. One reading is a match; several are
 * ambiguous (the caller refuses them and asks for `%2F`); none is no match.
 */

export type TemplateSegment = { literal: string } | { param: string; base64: boolean };

/** The parameter values (still percent-encoded) of each valid reading of `parts`. */
export function readSegments(segments: readonly TemplateSegment[], parts: readonly string[]): Record<string, string>[] {
  // With one part per segment there is nothing to split: values are taken as they are, and a bad
  // one is reported by validation with the parameter's name rather than as "no such path".
  const split = parts.length !== segments.length;
  if (parts.length < segments.length) return [];
  const readings: Record<string, string>[] = [];
  const walk = (segment: number, part: number, values: Record<string, string>) => {
    if (segment === segments.length) {
      if (part === parts.length) readings.push({ ...values });
      return;
    }
    const current = segments[segment]!;
    if ('literal' in current) {
      if (parts[part] === current.literal) walk(segment + 1, part + 1, values);
      return;
    }
    // Each later segment needs at least one part.
    const most = current.base64 ? parts.length - part - (segments.length - segment - 1) : 1;
    for (let take = 1; take <= most; take++) {
      const value = parts.slice(part, part + take).join('/');
      if (split && current.base64 && !isBase64(value)) continue;
      values[current.param] = value;
      walk(segment + 1, part + take, values);
    }
    delete values[current.param];
  };
  walk(0, 0, {});
  if (readings.length > 1) {
    const base64Params = segments.flatMap((s) => ('param' in s && s.base64 ? [s.param] : []));
    const text = readings.filter((reading) => base64Params.every((name) => decodesToText(reading[name] ?? '')));
    if (text.length === 1) return text;
  }
  return readings;
}

function decoded(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
}

/** Whether a (percent-encoded) path value is canonical standard base64. */
export function isBase64(encoded: string): boolean {
  const value = decoded(encoded);
  if (!value || value.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return false;
  return Buffer.from(value, 'base64').toString('base64') === value;
}

function decodesToText(encoded: string): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(decoded(encoded) ?? '', 'base64'));
    return true;
  } catch {
    return false;
  }
}
