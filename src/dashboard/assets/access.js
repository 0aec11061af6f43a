/* global document, setInterval */
// Shows WhatsApp's pairing QR while one waits to be scanned, and follows it as it changes (no QR: 204, hidden).
const img = document.getElementById('qr');
img.addEventListener('load', () => (img.hidden = false));
img.addEventListener('error', () => (img.hidden = true));
const refresh = () => (img.src = `/api/whatsapp/qr.svg?at=${Date.now()}`);
refresh();
setInterval(refresh, 3000);
