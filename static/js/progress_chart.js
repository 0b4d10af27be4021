// The project page's chart: completed per month, cumulative, and the plan's time schedule.
// Its text grows with the page's (ECharts sizes in px); ECharts' aria keeps it an image named by its
// title in the page's language, the figures being in the summary beside it (aria-describedby).
document.addEventListener("DOMContentLoaded", () => {
  const scale = parseFloat(getComputedStyle(document.documentElement).fontSize) / 16 || 1;
  const px = (size) => Math.round(size * scale);
  const locale = document.documentElement.lang.startsWith("zh") ? "ZH" : "EN";
  document.querySelectorAll("[data-chart]").forEach((element) => {
    const data = JSON.parse(document.getElementById(element.dataset.chart).textContent);
    const chart = echarts.init(element, null, { renderer: "svg", locale });
    const series = [
      { name: data.labels.monthly, type: "bar", data: data.monthly, itemStyle: { color: "#6ea8fe" } },
      { name: data.labels.cumulative, type: "line", data: data.cumulative, itemStyle: { color: "#0d6efd" } },
    ];
    if (data.schedule.length) {
      series.push({
        name: data.labels.schedule, type: "line", data: data.schedule,
        lineStyle: { type: "dashed" }, itemStyle: { color: "#adb5bd" }, symbol: "none",
      });
    }
    chart.setOption({
      animation: false,
      aria: { enabled: true, label: { description: element.getAttribute("aria-label") } },
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", bottom: 0, textStyle: { fontSize: px(11) } },  // one line, whatever the text size
      grid: { left: px(50), right: 10, top: 10, bottom: px(40) },
      xAxis: { type: "category", data: data.months, axisLabel: { fontSize: px(10) } },
      yAxis: { type: "value", axisLabel: { fontSize: px(10) } },
      series,
    });
    window.addEventListener("resize", () => chart.resize());
  });
});
