/** The longest delay `setTimeout` honours (about 24.8 days); a longer one fires after 1 ms instead. */
export const MAX_TIMER_MS = 2_147_483_647;
