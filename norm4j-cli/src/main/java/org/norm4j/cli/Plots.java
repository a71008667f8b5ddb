package org.norm4j.cli;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.norm4j.io.AtomicFile;

/** The PNGs a run writes (XChart), each written atomically. */
final class Plots {
    private Plots() {}

    /** d2l-style curves: train loss, train acc, test acc (and any extra series) per epoch, one chart. */
    static void curves(Path png, List<double[]> rows, String title) throws IOException {
        XYChart chart = new XYChartBuilder().width(800).height(500).title(title).xAxisTitle("epoch").yAxisTitle("loss / accuracy").build();
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
        double[] epochs = column(rows, 0);
        chart.addSeries("train loss", epochs, column(rows, 1)).setMarker(SeriesMarkers.CIRCLE);
        chart.addSeries("train acc", epochs, column(rows, 2)).setMarker(SeriesMarkers.DIAMOND);
        chart.addSeries("test acc", epochs, column(rows, 3)).setMarker(SeriesMarkers.SQUARE);
        if (!rows.isEmpty() && rows.get(0).length > 5) {
            chart.addSeries("test acc (plain running stats)", epochs, column(rows, 5)).setMarker(SeriesMarkers.TRIANGLE_UP);
        }
        write(png, chart);
    }

    /** One curve: a column of a run's metrics rows against the epoch. */
    record Series(String name, List<double[]> rows, int column) {}

    static void compare(Path png, List<Series> series, String title) throws IOException {
        XYChart chart = new XYChartBuilder().width(900).height(550).title(title).xAxisTitle("epoch").yAxisTitle("loss / accuracy").build();
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideS);
        for (Series s : series) chart.addSeries(s.name(), column(s.rows(), 0), column(s.rows(), s.column()));
        write(png, chart);
    }

    static void confusion(Path png, int[][] cm, List<String> classes) throws IOException {
        HeatMapChart chart = new HeatMapChartBuilder().width(900).height(800).title("Confusion matrix (rows: true class)")
                .xAxisTitle("predicted").yAxisTitle("true").build();
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setShowValue(true);
        chart.getStyler().setRangeColors(new Color[] {Color.WHITE, new Color(0x9ecae1), new Color(0x08519c)});
        int k = cm.length;
        java.util.List<Number[]> cells = new java.util.ArrayList<>();
        for (int t = 0; t < k; t++) for (int p = 0; p < k; p++) cells.add(new Number[] {p, k - 1 - t, cm[t][p]});
        java.util.List<String> ys = new java.util.ArrayList<>(classes);
        java.util.Collections.reverse(ys);
        chart.addSeries("count", classes, ys, cells);
        write(png, chart);
    }

    private static double[] column(List<double[]> rows, int c) {
        double[] v = new double[rows.size()];
        for (int i = 0; i < v.length; i++) v[i] = rows.get(i)[c];
        return v;
    }

    private static void write(Path png, org.knowm.xchart.internal.chartpart.Chart<?, ?> chart) throws IOException {
        AtomicFile.writeStream(png, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
    }
}
