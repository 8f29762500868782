/**
 * A client-wide retry budget (token bucket): every retry spends a token, every success puts
 * tokens back. First attempts are free, so a healthy client is never throttled, while an outage
 * cannot multiply traffic: once the bucket is empty, failures are returned at once instead of
 * retried until something succeeds again. With the defaults, 100 sends against a receiver that
 * answers 503 to everything make at most 100 + 20 requests.
 */
export interface RetryBudgetOptions {
  /** Tokens when full (and at start). Default 20. */
  capacity?: number;
  /** Tokens returned by each successful request, up to the capacity. Default 1. */
  refillPerSuccess?: number;
}

export const DEFAULT_BUDGET_CAPACITY = 20;
export const DEFAULT_BUDGET_REFILL = 1;

export class RetryBudget {
  readonly capacity: number;
  readonly refillPerSuccess: number;
  #tokens: number;

  constructor(options: RetryBudgetOptions = {}) {
    this.capacity = options.capacity ?? DEFAULT_BUDGET_CAPACITY;
    this.refillPerSuccess = options.refillPerSuccess ?? DEFAULT_BUDGET_REFILL;
    this.#tokens = this.capacity;
  }

  get tokens(): number {
    return this.#tokens;
  }

  /** Spends one token for a retry; false when the bucket is empty (do not retry). */
  tryAcquire(): boolean {
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  onSuccess(): void {
    this.#tokens = Math.min(this.capacity, this.#tokens + this.refillPerSuccess);
  }
}
