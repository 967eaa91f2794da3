/**
 * A /forecasts subscriber as the server reports it (ServeHandle.subscribers(), the 'slow-close'
 * event). Its own file so the public types do not reach the hub, whose socket types come from ws
 * (a dependency whose types, @types/ws, a consumer of the package need not install).
 */
export interface SubscriberInfo {
  id: number;
  /** null = every series. */
  series: string[] | null;
  bufferedAmount: number;
  /** Messages waiting in the coalescing map. */
  pending: number;
  /** Milliseconds this subscriber has been behind, 0 when caught up. */
  behindMs: number;
  /** Messages replaced in (or never entering) this subscriber's queue because a newer one superseded it. */
  dropped: number;
}
