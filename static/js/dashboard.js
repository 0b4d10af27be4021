// The dashboard's charts. Data and links come from the json_script "dashboard-charts";
// every bar and point links to the list behind it, as the tables beside the charts do.
(() => {
  const palette = ["#0d6efd", "#6ea8fe", "#adb5bd", "#dc3545"];

  function linkTo(chart, urls) {
    chart.on("click", (params) => {
      const url = urls[params.dataIndex];
      if (url) window.location.assign(url);
    });
  }

  function trend(element, data) {
    const chart = echarts.init(element, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      color: palette,
      tooltip: { trigger: "axis" },
      legend: { bottom: 0 },
      grid: { left: 50, right: 16, top: 16, bottom: 72 },
      xAxis: { type: "category", data: data.trend.months },
      yAxis: { type: "value" },
      series: [
        { name: data.labels.cumulative, type: "line", data: data.trend.cumulative, symbolSize: 8 },
        { name: data.labels.monthly, type: "bar", data: data.trend.monthly },
        { name: data.labels.schedule, type: "line", data: data.trend.schedule, lineStyle: { type: "dashed" }, symbol: "none" },
      ],
    });
    linkTo(chart, data.trend.urls);
    return chart;
  }

  function funnel(element, data) {
    const chart = echarts.init(element, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      color: palette,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 110, right: 24, top: 8, bottom: 24 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: data.funnel.names },
      series: [{ name: data.labels.projects, type: "bar", data: data.funnel.counts, label: { show: true, position: "right" } }],
    });
    linkTo(chart, data.funnel.urls);
    return chart;
  }

  function split(element, data) {
    const figures = data.splits[element.dataset.dimension];
    const chart = echarts.init(element, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      color: palette,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: (v) => (v === null ? "—" : `${v}%`) },
      grid: { left: 8, right: 24, top: 24, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: figures.names, axisLabel: { interval: 0, overflow: "truncate", width: 80 } },
      yAxis: { type: "value", axisLabel: { formatter: "{value}%" } },
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
    });
    linkTo(chart, figures.urls);
    return chart;
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
    window.addEventListener("resize", () => charts.forEach((chart) => chart.resize()));
    // Redraw at paper width before printing, and back after.
    window.addEventListener("beforeprint", () => charts.forEach((chart) => chart.resize()));
    window.addEventListener("afterprint", () => charts.forEach((chart) => chart.resize()));
    document.querySelectorAll("[data-action=print]").forEach((button) => {
      button.addEventListener("click", () => window.print());
    });
  });
})();
