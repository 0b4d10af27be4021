// The project page's chart: completed per month, cumulative, and the plan's time schedule.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-chart]").forEach((element) => {
    const data = JSON.parse(document.getElementById(element.dataset.chart).textContent);
    const chart = echarts.init(element, null, { renderer: "svg" });
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
      tooltip: { trigger: "axis" },
      legend: { bottom: 0, textStyle: { fontSize: 11 } },
      grid: { left: 50, right: 10, top: 10, bottom: 40 },
      xAxis: { type: "category", data: data.months, axisLabel: { fontSize: 10 } },
      yAxis: { type: "value", axisLabel: { fontSize: 10 } },
      series,
    });
    window.addEventListener("resize", () => chart.resize());
  });
});
