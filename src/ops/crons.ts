/**
 * @module
 * The minute Cron Trigger of wrangler.toml: src/index.ts sends it to the alert checks, the hourly one to the retention purge.
 */
export const ALERT_CRON = "* * * * *";
