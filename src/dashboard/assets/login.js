/* global document, window, fetch, history */
// Reads the one-time token from the URL fragment (never sent to the server by the browser),
// forgets it from the address bar, and trades it for the session cookie.
const state = document.getElementById('login-state');
const token = window.location.hash.slice(1);
history.replaceState(null, '', '/login');
if (!token) {
  state.textContent = 'No login token here. Run `enclave dashboard` on the host and open the link it prints.';
} else {
  fetch('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }), credentials: 'same-origin' })
    .then(async (res) => {
      if (res.ok) return window.location.replace('/');
      const answer = await res.json().catch(() => ({}));
      state.textContent = answer.error || 'Login failed. Run `enclave dashboard` on the host for a new link.';
    })
    .catch(() => {
      state.textContent = 'The host did not answer. Is Enclave still running?';
    });
}
