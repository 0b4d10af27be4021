// The dashboard's charts. Data and links come from the json_script "dashboard-charts";
// every bar and point links to the list behind it, as the tables beside the charts do.
(() => {
  const palette = ["#0d6efd", "#6ea8fe", "#adb5bd", "#dc3545"];
  // The chart's text grows with the page's (the browser's text size, 显示设置): ECharts sizes in px.
  const scale = parseFloat(getComputedStyle(document.documentElement).fontSize) / 16 || 1;
  const px = (size) => Math.round(size * scale);

  // Screen readers (issue 22): ECharts' aria keeps the chart an image named by its title, in the
  // page's language; the figures are the summary the page renders beside it (aria-describedby),
  // and the table the link under the chart leads to.
  function init(element) {
    const locale = document.documentElement.lang.startsWith("zh") ? "ZH" : "EN";
    return echarts.init(element, null, { renderer: "svg", locale });
  }
  const aria = (element) => ({ enabled: true, label: { description: element.getAttribute("aria-label") } });

  function linkTo(chart, urls) {
    chart.on("click", (params) => {
      const url = urls[params.dataIndex];
      if (url) window.location.assign(url);
    });
  }

  // Every category label shown (ECharts drops labels that would overlap, and a printed chart
  // lost its axis): wrapped under its bar while there is room, else slanted and smaller.
  function categoryLabels(width, count) {
    const room = Math.floor((width - 64) / Math.max(count, 1));
    if (room >= px(44)) return { interval: 0, rotate: 0, overflow: "break", width: room - 6, fontSize: px(12) };
    return { interval: 0, rotate: 45, overflow: "truncate", width: px(140), fontSize: px(10) };
  }

  function fitCategories(chart, count) {
    return () => chart.setOption({ xAxis: { axisLabel: categoryLabels(chart.getWidth(), count) } });
  }

  // A chart in the dashboard's look (no animation, the page's text size, its palette) whose
  // points lead to the urls given.
  function draw(element, option, urls) {
    const chart = init(element);
    chart.setOption({ animation: false, aria: aria(element), textStyle: { fontSize: px(12) }, color: palette, ...option });
    linkTo(chart, urls);
    return chart;
  }

  function trend(element, data) {
    const chart = draw(element, {
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", bottom: 0 },  // one line, whatever the text size
      grid: { left: px(50), right: 16, top: 16, bottom: px(72) },
      xAxis: { type: "category", data: data.trend.months },
      yAxis: { type: "value", axisLabel: { fontSize: px(12) } },
      series: [
        { name: data.labels.cumulative, type: "line", data: data.trend.cumulative, symbolSize: 8 },
        { name: data.labels.monthly, type: "bar", data: data.trend.monthly },
        { name: data.labels.schedule, type: "line", data: data.trend.schedule, lineStyle: { type: "dashed" }, symbol: "none" },
      ],
    }, data.trend.urls);
    return { chart, fit: fitCategories(chart, data.trend.months.length) };
  }

  function funnel(element, data) {
    const chart = draw(element, {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1, axisLabel: { fontSize: px(12) } },
      yAxis: { type: "category", inverse: true, data: data.funnel.names, axisLabel: { interval: 0, fontSize: px(12) } },
      series: [{ name: data.labels.projects, type: "bar", data: data.funnel.counts, label: { show: true, position: "right" } }],
    }, data.funnel.urls);
    return { chart, fit: () => {} };
  }

  function split(element, data) {
    const figures = data.splits[element.dataset.dimension];
    const chart = draw(element, {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: (v) => (v === null ? "—" : `${v}%`) },
      grid: { left: 8, right: 24, top: 24, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: figures.names },
      // Up to the schedule at least, so its dashed line shows when every bar is below it.
      yAxis: { type: "value", axisLabel: { formatter: "{value}%", fontSize: px(12) }, max: (extent) => Math.ceil(Math.max(extent.max, Number(data.schedule_pct) || 0) / 20) * 20 },
      series: [{
        name: data.labels.rate,
        type: "bar",
        data: figures.rates,
        label: { show: true, position: "top", formatter: "{c}%" },
        markLine: {
          symbol: "none",
          label: { show: false },
          lineStyle: { color: "#dc3545", type: "dashed" },
          data: [{ yAxis: data.schedule_pct }],
        },
      }],
    }, figures.urls);
    return { chart, fit: fitCategories(chart, figures.names.length) };
  }

  const kinds = { trend, funnel, split };

  document.addEventListener("DOMContentLoaded", () => {
    const source = document.getElementById("dashboard-charts");
    if (!source) return;
    const data = JSON.parse(source.textContent);
    const charts = [];
    document.querySelectorAll("[data-dashboard-chart]").forEach((element) => {
      charts.push(kinds[element.dataset.dashboardChart](element, data));
    });
    const redraw = () => charts.forEach(({ chart, fit }) => { chart.resize(); fit(); });
    charts.forEach(({ fit }) => fit());
    window.addEventListener("resize", redraw);
    // Printing: html.printing gives the charts their paper size (portal.css) before the browser
    // copies the page for print (Firefox), and Chromium's print layout redraws them once more at
    // the paper's own width when the print media query starts to match.
    window.addEventListener("beforeprint", () => { document.documentElement.classList.add("printing"); redraw(); });
    window.addEventListener("afterprint", () => { document.documentElement.classList.remove("printing"); redraw(); });
    window.matchMedia("print").addEventListener("change", redraw);
    document.querySelectorAll("[data-action=print]").forEach((button) => {
      button.addEventListener("click", () => window.print());
    });
  });
})();
