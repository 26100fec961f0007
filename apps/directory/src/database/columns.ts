import { ValueTransformer } from 'typeorm';

/**
 * Timestamps and bit rates are stored as 64-bit integers (epoch milliseconds, bits per second), the one
 * representation SQLite and PostgreSQL compare and index alike. PostgreSQL returns bigint as a string;
 * every value we store stays below 2^53, so reading it back as a number is exact.
 */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null | undefined) =>
    value === null || value === undefined ? null : Number(value),
};

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
