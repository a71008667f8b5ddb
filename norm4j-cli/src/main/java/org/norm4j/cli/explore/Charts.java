package org.norm4j.cli.explore;

import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.norm4j.io.AtomicFile;

/** The charts of {@code norm4j explore} (XChart), each PNG written atomically. Drawing only; no numbers are computed here. */
final class Charts {
    static final Color WITHOUT = new Color(0xd62728);
    static final Color WITH = new Color(0x1f77b4);
    static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd),
        new Color(0xff7f0e), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f)};

    private Charts() {}

    /** A line chart with a white background and the legend below the plot. */
    static XYChart lines(int width, int height, String title, String xTitle, String yTitle, boolean logY) {
        XYChart c = new XYChartBuilder().width(width).height(height).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        c.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        c.getStyler().setYAxisLogarithmic(logY);
        c.getStyler().setSeriesColors(PALETTE);
        return c;
    }

    /**
     * One small histogram panel: {@code shares[i]} is the share of values in bin i of equal bins
     * over [lo, hi]. No legend (the title says what it is); axes titled.
     */
    static XYChart histogram(int width, int height, String title, String xTitle, double lo, double hi, double[] shares, Color color) {
        XYChart c = new XYChartBuilder().width(width).height(height).title(title).xAxisTitle(xTitle).yAxisTitle("share of values").build();
        var s = c.getStyler();
        s.setChartBackgroundColor(Color.WHITE);
        s.setLegendVisible(false);
        s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 12));
        s.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        s.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        s.setChartPadding(4);
        s.setXAxisMin(lo);
        s.setXAxisMax(hi);
        s.setYAxisMin(0.0);
        s.setYAxisDecimalPattern("0.00");
        int bins = shares.length;
        double[] x = new double[bins + 1], y = new double[bins + 1];
        for (int i = 0; i <= bins; i++) {
            x[i] = lo + (hi - lo) * i / bins;
            y[i] = shares[Math.min(i, bins - 1)];
        }
        XYSeries series = c.addSeries("share", x, y);
        series.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.StepArea);
        series.setLineColor(color);
        series.setFillColor(new Color(color.getRed(), color.getGreen(), color.getBlue(), 110));
        series.setMarker(org.knowm.xchart.style.markers.SeriesMarkers.NONE);
        return c;
    }

    static XYSeries colored(XYSeries s, Color color) {
        s.setLineColor(color);
        s.setMarkerColor(color);
        return s;
    }

    /** Values shown in cells, white (low) to dark blue (high), between {@code min} and {@code max}. */
    static HeatMapChart heatMap(int width, int height, String title, String xTitle, String yTitle, double min, double max) {
        HeatMapChart c = new HeatMapChartBuilder().width(width).height(height).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setShowValue(true);
        c.getStyler().setHeatMapValueDecimalPattern("0.000");
        c.getStyler().setRangeColors(new Color[] {Color.WHITE, new Color(0x9ecae1), new Color(0x08519c)});
        c.getStyler().setMin(min);
        c.getStyler().setMax(max);
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        return c;
    }

    static void write(Path png, Chart<?, ?> chart) throws IOException {
        AtomicFile.writeStream(png, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
    }

    /** Panels of equal size in a grid, row by row. */
    static <C extends Chart<?, ?>> void writeGrid(Path png, List<C> panels, int rows, int cols) throws IOException {
        if (panels.size() != rows * cols) {
            throw new IllegalArgumentException("grid " + png + ": " + panels.size() + " panels for " + rows + " x " + cols);
        }
        AtomicFile.writeStream(png, out -> BitmapEncoder.saveBitmap(panels, rows, cols, out, BitmapEncoder.BitmapFormat.PNG));
    }
}
