// Chromium comes from the OS (Debian: apt-get install chromium), never from a download at install time.
/** @type {import('puppeteer').Configuration} */
module.exports = { skipDownload: true };
