/* global document, fetch, URL, setTimeout */
// Shows WhatsApp's pairing QR while one waits to be scanned, and follows it as it changes.
const img = document.getElementById('qr');
let shown;

async function refresh() {
  try {
    const res = await fetch('/api/whatsapp/qr.svg', { credentials: 'same-origin' });
    if (res.status === 200) {
      const url = URL.createObjectURL(await res.blob());
      img.src = url;
      img.hidden = false;
      if (shown) URL.revokeObjectURL(shown);
      shown = url;
    } else {
      img.hidden = true;
    }
  } finally {
    setTimeout(refresh, 3000);
  }
}
refresh();
