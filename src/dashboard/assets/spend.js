/* global document, fetch, uPlot */
// Daily spend of the last days as a line per group and one for all groups together (uPlot, served locally).
const COLORS = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#0891b2', '#db2777', '#65a30d', '#475569'];
const target = document.getElementById('chart');

fetch('/api/spend/daily', { credentials: 'same-origin' })
  .then((res) => res.json())
  .then((data) => {
    const x = data.days.map((d) => Date.parse(`${d}T12:00:00Z`) / 1000);
    const usd = (micros) => micros / 1e6;
    const series = [{}];
    const values = [x];
    data.series.forEach((s, i) => {
      const total = s.name === 'all groups';
      series.push({ label: s.name, stroke: total ? '#111827' : COLORS[i % COLORS.length], width: total ? 2 : 1.5, value: (_, v) => (v == null ? '—' : `$${v.toFixed(4)}`) });
      values.push(s.micros.map(usd));
    });
    if (data.globalDailyLimitMicros !== null) {
      series.push({ label: 'daily limit, all groups', stroke: '#dc2626', dash: [6, 4], width: 1 });
      values.push(x.map(() => usd(data.globalDailyLimitMicros)));
    }
    const width = Math.max(320, Math.min(960, target.clientWidth || 960));
    new uPlot({ width, height: 280, series, axes: [{}, { values: (_, ticks) => ticks.map((t) => `$${t}`) }], scales: { x: { time: true } } }, values, target);
  })
  .catch(() => {
    target.textContent = 'The chart could not be loaded; the table above has the same numbers.';
  });
