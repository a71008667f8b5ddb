/**
 * Data for training: an IDX reader ({@link org.norm4j.data.Idx}), MNIST and Fashion-MNIST
 * ({@link org.norm4j.data.FashionMnist}, {@link org.norm4j.data.Mnist}), an in-memory
 * {@link org.norm4j.data.Dataset} and a deterministic, resumable {@link org.norm4j.data.DataLoader}.
 * Plain JDK only: no image or compression library beyond {@code java.util.zip}.
 */
package org.norm4j.data;
